# ruff: noqa: E501 - the articles are prose: one paragraph or list item per line, as staff type them.
"""Demo articles about paying: declined payments, refunds, the wallet, refill PINs, receipts and
credit notes."""

from __future__ import annotations

from refill.help import topics
from refill.help.models import Article

from .article import DemoArticle

C = Article.Category

ARTICLES: tuple[DemoArticle, ...] = (
    DemoArticle(
        topics.PAYMENT_DECLINED,
        C.PAYING,
        "payment-declined",
        "Why was my payment refused, and what can I do?",
        "为什么我的付款被拒绝？该怎么办？",
        """When a payment is refused, **nothing is charged and your line does not change**. The page tells you the reason your bank or card provider gave. Here is what each one means.

## Common reasons
- **Not enough money in the account**: top up the account, or use another card.
- **Over the spending limit**: use another card, or ask your bank to raise the limit.
- **Card frozen by your bank**: contact your bank, or use another card.
- **Card expired**: check the expiry date, or use another card. Update your [saved cards](/payment-methods/) so auto-renew keeps working.
- **Wrong security code (CVC)**: check the 3 or 4 digits on the back of the card and try again.
- **Card number not valid**: check the number and try again.
- **Your bank did not confirm the payment**: some banks ask you to approve the payment in their app or by a code. Try again and complete that step, or use another card.
- **Declined without a reason**: only your bank knows why. Call them, or use another card.
- **We could not reach your bank**: wait a minute and try again.

## Other ways to pay
- Pay from your [wallet](/wallet/): top it up by card or with a refill PIN first.
- Choose **Wallet first, the rest by card** on the renew page.
- Pay in cash at a shop that sells our refills.

## Several refusals in a row
After several refused cards within an hour, we pause card payments for a while to protect you from fraud. Wait an hour, or pay from your wallet.

## Auto-renew
If an automatic renewal is refused, we email you the reason and try again over the next days. Fix the cause (for example, save a new card) or renew yourself before the grace period ends.""",
        """付款被拒绝时，**不会扣款，您的号码也不会有任何变化**。页面会显示银行或发卡机构给出的原因，各原因的含义如下。

## 常见原因
- **银行卡余额不足**：请确认卡内余额足够，或改用其他银行卡。
- **超出消费额度**：请改用其他银行卡，或联系银行提高额度。
- **银行卡被银行冻结**：请联系银行，或改用其他银行卡。
- **银行卡已过期**：请检查有效期，或改用其他银行卡。请同时更新[已保存的银行卡](/payment-methods/)，以免影响自动续费。
- **安全码（CVC）错误**：请核对卡背面的 3 位或 4 位数字后重试。
- **卡号无效**：请检查卡号后重试。
- **银行未确认付款**：有些银行要求您在银行 App 中或通过验证码确认付款。请重试并完成确认，或改用其他银行卡。
- **银行拒绝且未说明原因**：只有银行知道具体原因，请致电银行，或改用其他银行卡。
- **无法连接到您的银行**：请稍等一分钟后重试。

## 其他支付方式
- 使用[钱包](/wallet/)余额支付：可以先用银行卡或充值卡为钱包充值。
- 在续费页面选择 **先用钱包，余额不足部分用银行卡**。
- 到销售我们充值卡的门店用现金支付。

## 连续多次被拒绝
如果一小时内多张银行卡被拒绝，为防止盗刷，我们会暂停一段时间的银行卡支付。请一小时后再试，或使用钱包余额支付。

## 自动续费
如果自动续费被拒绝，我们会通过邮件告诉您原因，并在接下来几天内再次尝试。请在宽限期结束前解决问题（例如保存一张新银行卡）或自行续费。""",
        keywords_en="declined, refused, failed, rejected, card not working, payment error, payment failed, charge failed",
        keywords_zh_hans="扣款失败, 付款失败, 支付失败, 被拒绝, 银行卡不能用, 付不了款",
    ),
    DemoArticle(
        topics.REFILL_PINS,
        C.REFILL_PINS,
        "refill-pins",
        "How refill PINs work",
        "充值卡如何使用",
        """A refill PIN is the code on a refill card bought in a shop. Redeeming it adds its value to your wallet, which you can then use to renew.

## Redeem a PIN
1. Log in and open your [Wallet](/wallet/).
2. Press **Redeem a refill PIN**.
3. Type the PIN exactly as printed on the card.
4. To top up someone else, fill in **Top up another number (optional)** with their phone number. Leave it empty to add the value to your own wallet.
5. Press **Redeem**.

The value appears in the wallet at once, in the card's currency.

## Refill someone's number without an account
On the home page press **Refill any number**, type the number, choose one of its plans and choose **Refill PIN** under **How to pay**. The PIN pays for the plan at once; if it is worth more than the plan, the rest goes to the number's wallet. A PIN worth less than the plan is not used: choose a cheaper plan or pay by card or a payment app. You can also pay by card, PayPal, Apple Pay, Alipay or WeChat Pay there. Leave your email to get a receipt; the number's owner is told of your gift.

## Use the value
On the renew page, choose your wallet under **How to pay**, or **Wallet first, the rest by card** if the wallet does not cover the whole price. Auto-renew also pays from the wallet first when **Pay from my wallet first** is ticked.

## Good to know
- Each PIN can be used only once.
- A PIN has an expiry date (usually 90 days after it was issued). An expired PIN cannot be redeemed.
- A PIN is for one currency and only works for numbers in that currency.
- After 5 wrong PINs within an hour, redeeming is blocked for an hour, to stop guessing.
- If the page says the PIN was cancelled, go back to the shop that sold it.

Keep the card until the value shows in your wallet, and never share a PIN you have not redeemed yet.""",
        """充值卡密码是在门店购买的充值卡上印的密码。兑换后，面值会存入您的钱包，可用于续费。

## 兑换充值卡
1. 登录后打开[钱包](/wallet/)。
2. 点击 **兑换充值卡**。
3. 按卡上印的内容准确输入充值卡密码。
4. 如果要为别人充值，请在 **为其他号码充值（可选）** 中填写对方的手机号码；留空则存入您自己的钱包。
5. 点击 **兑换**。

面值会立即以充值卡的币种存入钱包。

## 无需账户，为他人号码续费
在首页点击 **为任意号码续费**，输入号码，选择该号码的一个套餐，并在 **支付方式** 中选择 **充值卡密码**。充值卡会立即支付该套餐；面值多出的部分存入该号码的钱包。面值不足的充值卡不会被使用：请选择更便宜的套餐，或用银行卡或支付应用付款。在该页面也可以用银行卡、PayPal、Apple Pay、支付宝或微信支付付款。留下电子邮箱即可收到收据；我们会将您的赠送告知号码持有人。

## 使用余额
在续费页面的 **支付方式** 中选择钱包支付；如果钱包余额不足，可以选择 **先用钱包，余额不足部分用银行卡**。如果勾选了 **优先使用钱包余额支付**，自动续费也会优先从钱包扣款。

## 注意事项
- 每张充值卡只能使用一次。
- 充值卡有有效期（通常为发卡后 90 天），过期后无法兑换。
- 充值卡只对应一种币种，只能用于该币种的号码。
- 一小时内输错 5 次，兑换功能会锁定一小时，以防密码被猜测。
- 如果页面提示充值卡已作废，请联系售卡门店。

在余额到账之前请保留好充值卡，也不要把尚未兑换的密码告诉他人。""",
        keywords_en="voucher, scratch card, pin, code from shop, redeem, refill someone else, gift, no account",
        keywords_zh_hans="充值卡, 卡密, 兑换, 刮刮卡, 门店买的卡, 为他人续费, 赠送, 无需账户",
    ),
    DemoArticle(
        topics.REFUNDS,
        C.PAYING,
        "refunds",
        "Refunds: how to get your money back",
        "退款：如何退款、退到哪里、多久到账",
        """Refunds are made by our support team, who look at each request. One case is handled by the site itself: a new eSIM line that waited too long (below).

## Ask for a refund
1. Open [Orders](/orders/) and the order you want refunded. Note its receipt number.
2. Press **Contact support** (on any help article, or [here](/support/new/)) and tell us the receipt number, the phone number and what went wrong.
3. We answer by email, in your language. You can follow the request under [My support requests](/support/).

## Reasons we refund for
- Cancelled at your request
- The wrong plan was bought
- Charged twice for the same renewal
- A problem with our service
- What was bought could not be delivered
- A goodwill gesture

The email we send names the reason, and any note from our staff.

## Where the money goes
- **Card**: back to the card you paid with.
- **Wallet**: back to your [wallet](/wallet/), at once.
- **Cash in a shop**: to your wallet (shops do not give cash back).
- You may ask for the refund to go to your wallet instead of the card.
- A wallet top-up can be refunded only while the money is still in the wallet.

## How long it takes
A refund to the wallet shows at once. A refund to a card is sent the same day; your bank then takes a few working days to show it, sometimes up to 10. If it is not there after 10 working days, contact us with the credit note number.

## What you receive
- An email with the refund and its **credit note** as a PDF (a credit note is the receipt of a refund, numbered like US-CR-2026-000001).
- The order shows **Refunded** or **Partly refunded**, with the amount and date, and the credit note under **Credit note** (**Download PDF**). See [Receipts and credit notes](/help/receipts-and-credit-notes/).

## What happens to the plan
A full refund of a renewal usually ends the period it paid for, from the moment of the refund; periods you paid after it move up so you lose no days. Some plans keep the service, or refund only the unused part: our team tells you before.

## A new eSIM line that did not arrive
If you bought a new number and its eSIM is still not ready after 48 hours, we email you and the line's eSIM page shows **Refund me instead**. Press it to get everything you paid for that line back in full, or keep waiting: the eSIM is sent as soon as it arrives.""",
        """退款由我们的客服团队逐一审核办理。只有一种情况可以在网站上直接办理：新办 eSIM 号码等待时间过长（见下文）。

## 申请退款
1. 打开[订单](/orders/)，找到要退款的订单，记下收据编号。
2. 点击 **联系客服**（任何帮助文章下方都有，也可以直接[点此](/support/new/)），告诉我们收据编号、手机号码以及遇到的问题。
3. 我们会用您的语言通过邮件答复。您可以在[我的支持请求](/support/)中查看进度。

## 可以退款的原因
- 应您的要求取消
- 购买的套餐有误
- 同一次续费被重复扣款
- 我们的服务出现问题
- 所购内容未能交付
- 善意补偿

我们发送的邮件会写明退款原因，以及工作人员的备注（如有）。

## 钱退到哪里
- **银行卡**：原路退回您付款的银行卡。
- **钱包**：立即退回您的[钱包](/wallet/)。
- **门店现金**：退到您的钱包（门店不退现金）。
- 您也可以要求把银行卡的退款退到钱包。
- 钱包充值只有在余额尚未使用时才能退款。

## 多久到账
退到钱包的款项立即到账。退到银行卡的款项当天发出，之后由银行处理，通常需要几个工作日，最长可能需要 10 个工作日。如果 10 个工作日后仍未到账，请提供退款凭证编号联系我们。

## 您会收到什么
- 一封退款邮件，附有 PDF 格式的 **退款凭证**（退款凭证就是退款的收据，编号格式如 US-CR-2026-000001）。
- 订单会显示 **已退款** 或 **部分退款**，以及金额和日期；在 **退款凭证** 下点击 **下载 PDF** 即可下载。请参阅[收据与退款凭证](/help/receipts-and-credit-notes/)。

## 套餐会怎样
续费订单全额退款后，通常从退款时起结束该订单购买的周期；之后已付费的周期会顺延提前，您不会损失天数。有些套餐退款后仍保留服务，或只退未使用的部分，我们的团队会事先告诉您。

## 新办 eSIM 号码迟迟未到
如果您新办了号码，但 48 小时后 eSIM 仍未准备好，我们会发邮件通知您，号码的 eSIM 页面也会显示 **改为全额退款**。点击即可全额退回该号码的所有付款；您也可以继续等待，eSIM 一到就会发送给您。""",
        keywords_en="refund, money back, get my money back, reimburse, return, charged twice, double charge, wrong plan, credit note",
        keywords_zh_hans="退款, 退钱, 退费, 返还, 重复扣款, 扣了两次, 买错套餐, 退款凭证, 多久到账",
    ),
    DemoArticle(
        topics.WALLET,
        C.PAYING,
        "wallet",
        "Your wallet: top up, pay, and see every movement",
        "钱包：充值、支付和查看每笔明细",
        """Your wallet holds money you can spend on renewals and add-ons for your lines. It opens with your first line.

## Top up
1. Open your [Wallet](/wallet/).
2. Press **Top up by card**, choose the amount and pay. Each top-up is between $5 and $500 (¥30 and ¥3,000 in mainland China).
3. Or press **Redeem a refill PIN** to add the value of a refill card. See [How refill PINs work](/help/refill-pins/).

## Pay from the wallet
- On the renew page, choose your wallet under **How to pay**.
- If the wallet does not cover the price, choose **Wallet first, the rest by card**: the wallet part is set aside while the card is charged, and given back at once if the card is refused.
- Auto-renew pays from the wallet first when **Pay from my wallet first** is ticked.

## Your statement
The wallet page lists every movement with what it was: a top-up, a renewal or add-on (with the number and plan), a refill PIN, money set aside for a card payment and its return, a refund. The balance is the sum of these.

## Good to know
- A wallet is in one currency: money in dollars pays for US numbers, money in yuan for numbers in mainland China.
- Wallet money cannot be taken out as cash. A top-up made by mistake can be refunded while it is unspent: [contact support](/support/new/). See [Refunds](/help/refunds/).
- Refunds of what you paid from the wallet, or in cash, come back to the wallet.""",
        """钱包中的余额可以用来为您的号码续费和购买加油包。办理第一个号码后即可使用钱包。

## 充值
1. 打开[钱包](/wallet/)。
2. 点击 **银行卡充值**，选择金额并付款。每次充值金额为 5 至 500 美元（中国大陆为 30 至 3000 元）。
3. 也可以点击 **兑换充值卡**，把充值卡的面值存入钱包。请参阅[充值卡如何使用](/help/refill-pins/)。

## 用钱包支付
- 在续费页面的 **支付方式** 中选择钱包。
- 如果钱包余额不足，选择 **先用钱包，余额不足部分用银行卡**：银行卡扣款期间，钱包中的部分会被暂时冻结；如果银行卡被拒绝，会立即退回钱包。
- 如果勾选了 **优先使用钱包余额支付**，自动续费会优先从钱包扣款。

## 钱包明细
钱包页面列出每一笔变动及其用途：充值、续费或加油包（注明号码和套餐）、充值卡兑换、为银行卡付款冻结的金额及其退回、退款。余额就是这些变动的合计。

## 注意事项
- 每个钱包只有一种币种：美元余额用于美国号码，人民币余额用于中国大陆号码。
- 钱包余额不能提取现金。误充值且尚未使用的金额可以退款：请[联系客服](/support/new/)，也可以参阅[退款](/help/refunds/)。
- 用钱包余额或在门店用现金支付的款项，退款时会退回钱包。""",
        keywords_en="wallet, balance, top up, add money, credit, statement, funds",
        keywords_zh_hans="钱包, 余额, 充值, 存钱, 明细, 账单",
    ),
    DemoArticle(
        topics.RECEIPTS,
        C.PAYING,
        "receipts-and-credit-notes",
        "Receipts and credit notes",
        "收据与退款凭证",
        """Every paid order has a receipt, and every refund a credit note. Both are PDFs you can download at any time.

## Find a receipt
1. Open [Orders](/orders/). Each paid order shows its receipt number (for example US-2026-000123).
2. Open the order and press **Download PDF** under **Receipt**.

We also email you when a payment goes through. The receipt shows the operator's name, address and tax number, what you bought, for which number and period, the price, discount and tax, and how you paid. It is in your language and your time zone.

## Credit notes
When an order is refunded, in full or in part, we issue a credit note: the receipt of the refund, numbered like US-CR-2026-000001. It is attached to the refund email, and on the order page under **Credit note** (**Download PDF**). The order shows **Refunded** or **Partly refunded**. See [Refunds](/help/refunds/).

## Good to know
- Receipt numbers follow each other without gaps, one series per country and year. A new receipt may take a minute to get its number.
- An attempt that was not completed has no receipt: nothing was charged for it.
- Wallet top-ups have receipts too; redeeming a refill PIN does not (the shop that sold the card gives you its receipt).
- A receipt cannot be changed once issued. If something on it is wrong, [contact support](/support/new/).""",
        """每个已付款的订单都有收据，每笔退款都有退款凭证。两者都是 PDF 文件，可以随时下载。

## 查找收据
1. 打开[订单](/orders/)。每个已付款的订单都会显示收据编号（例如 US-2026-000123）。
2. 打开订单，在 **收据** 下点击 **下载 PDF**。

付款成功后，我们也会发邮件通知您。收据上有运营商的名称、地址和税号，所购内容、对应的号码和周期、价格、折扣和税费，以及支付方式。收据使用您的语言和时区。

## 退款凭证
订单全额或部分退款后，我们会开具退款凭证，也就是退款的收据，编号格式如 US-CR-2026-000001。退款凭证附在退款邮件中，也可以在订单页面的 **退款凭证** 下点击 **下载 PDF**。订单会显示 **已退款** 或 **部分退款**。请参阅[退款](/help/refunds/)。

## 注意事项
- 收据编号按国家或地区和年份连续编排，不会跳号。新收据可能需要一分钟左右才会生成编号。
- 未完成的付款尝试没有收据：这些尝试没有扣款。
- 钱包充值也有收据；兑换充值卡没有收据（请向售卡门店索取）。
- 收据开具后不能修改。如果收据内容有误，请[联系客服](/support/new/)。""",
        keywords_en="receipt, invoice, bill, pdf, proof of payment, credit note, tax, vat, fapiao",
        keywords_zh_hans="收据, 发票, 账单, 付款凭证, 退款凭证, 下载, 税号",
    ),
)
